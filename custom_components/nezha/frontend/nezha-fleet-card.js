var B=globalThis,K=B.ShadowRoot&&(B.ShadyCSS===void 0||B.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,te=Symbol(),ye=new WeakMap,U=class{constructor(e,t,s){if(this._$cssResult$=!0,s!==te)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=e,this.t=t}get styleSheet(){let e=this.o,t=this.t;if(K&&e===void 0){let s=t!==void 0&&t.length===1;s&&(e=ye.get(t)),e===void 0&&((this.o=e=new CSSStyleSheet).replaceSync(this.cssText),s&&ye.set(t,e))}return e}toString(){return this.cssText}},$e=n=>new U(typeof n=="string"?n:n+"",void 0,te),se=(n,...e)=>{let t=n.length===1?n[0]:e.reduce((s,i,r)=>s+(o=>{if(o._$cssResult$===!0)return o.cssText;if(typeof o=="number")return o;throw Error("Value passed to 'css' function must be a 'css' function result: "+o+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(i)+n[r+1],n[0]);return new U(t,n,te)},be=(n,e)=>{if(K)n.adoptedStyleSheets=e.map(t=>t instanceof CSSStyleSheet?t:t.styleSheet);else for(let t of e){let s=document.createElement("style"),i=B.litNonce;i!==void 0&&s.setAttribute("nonce",i),s.textContent=t.cssText,n.appendChild(s)}},ie=K?n=>n:n=>n instanceof CSSStyleSheet?(e=>{let t="";for(let s of e.cssRules)t+=s.cssText;return $e(t)})(n):n;var{is:lt,defineProperty:ct,getOwnPropertyDescriptor:dt,getOwnPropertyNames:pt,getOwnPropertySymbols:ht,getPrototypeOf:ut}=Object,j=globalThis,xe=j.trustedTypes,ft=xe?xe.emptyScript:"",mt=j.reactiveElementPolyfillSupport,L=(n,e)=>n,ne={toAttribute(n,e){switch(e){case Boolean:n=n?ft:null;break;case Object:case Array:n=n==null?n:JSON.stringify(n)}return n},fromAttribute(n,e){let t=n;switch(e){case Boolean:t=n!==null;break;case Number:t=n===null?null:Number(n);break;case Object:case Array:try{t=JSON.parse(n)}catch{t=null}}return t}},Ae=(n,e)=>!lt(n,e),we={attribute:!0,type:String,converter:ne,reflect:!1,useDefault:!1,hasChanged:Ae};Symbol.metadata??=Symbol("metadata"),j.litPropertyMetadata??=new WeakMap;var $=class extends HTMLElement{static addInitializer(e){this._$Ei(),(this.l??=[]).push(e)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(e,t=we){if(t.state&&(t.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(e)&&((t=Object.create(t)).wrapped=!0),this.elementProperties.set(e,t),!t.noAccessor){let s=Symbol(),i=this.getPropertyDescriptor(e,s,t);i!==void 0&&ct(this.prototype,e,i)}}static getPropertyDescriptor(e,t,s){let{get:i,set:r}=dt(this.prototype,e)??{get(){return this[t]},set(o){this[t]=o}};return{get:i,set(o){let a=i?.call(this);r?.call(this,o),this.requestUpdate(e,a,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(e){return this.elementProperties.get(e)??we}static _$Ei(){if(this.hasOwnProperty(L("elementProperties")))return;let e=ut(this);e.finalize(),e.l!==void 0&&(this.l=[...e.l]),this.elementProperties=new Map(e.elementProperties)}static finalize(){if(this.hasOwnProperty(L("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(L("properties"))){let t=this.properties,s=[...pt(t),...ht(t)];for(let i of s)this.createProperty(i,t[i])}let e=this[Symbol.metadata];if(e!==null){let t=litPropertyMetadata.get(e);if(t!==void 0)for(let[s,i]of t)this.elementProperties.set(s,i)}this._$Eh=new Map;for(let[t,s]of this.elementProperties){let i=this._$Eu(t,s);i!==void 0&&this._$Eh.set(i,t)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(e){let t=[];if(Array.isArray(e)){let s=new Set(e.flat(1/0).reverse());for(let i of s)t.unshift(ie(i))}else e!==void 0&&t.push(ie(e));return t}static _$Eu(e,t){let s=t.attribute;return s===!1?void 0:typeof s=="string"?s:typeof e=="string"?e.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(e=>this.enableUpdating=e),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(e=>e(this))}addController(e){(this._$EO??=new Set).add(e),this.renderRoot!==void 0&&this.isConnected&&e.hostConnected?.()}removeController(e){this._$EO?.delete(e)}_$E_(){let e=new Map,t=this.constructor.elementProperties;for(let s of t.keys())this.hasOwnProperty(s)&&(e.set(s,this[s]),delete this[s]);e.size>0&&(this._$Ep=e)}createRenderRoot(){let e=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return be(e,this.constructor.elementStyles),e}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(e=>e.hostConnected?.())}enableUpdating(e){}disconnectedCallback(){this._$EO?.forEach(e=>e.hostDisconnected?.())}attributeChangedCallback(e,t,s){this._$AK(e,s)}_$ET(e,t){let s=this.constructor.elementProperties.get(e),i=this.constructor._$Eu(e,s);if(i!==void 0&&s.reflect===!0){let r=(s.converter?.toAttribute!==void 0?s.converter:ne).toAttribute(t,s.type);this._$Em=e,r==null?this.removeAttribute(i):this.setAttribute(i,r),this._$Em=null}}_$AK(e,t){let s=this.constructor,i=s._$Eh.get(e);if(i!==void 0&&this._$Em!==i){let r=s.getPropertyOptions(i),o=typeof r.converter=="function"?{fromAttribute:r.converter}:r.converter?.fromAttribute!==void 0?r.converter:ne;this._$Em=i;let a=o.fromAttribute(t,r.type);this[i]=a??this._$Ej?.get(i)??a,this._$Em=null}}requestUpdate(e,t,s,i=!1,r){if(e!==void 0){let o=this.constructor;if(i===!1&&(r=this[e]),s??=o.getPropertyOptions(e),!((s.hasChanged??Ae)(r,t)||s.useDefault&&s.reflect&&r===this._$Ej?.get(e)&&!this.hasAttribute(o._$Eu(e,s))))return;this.C(e,t,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(e,t,{useDefault:s,reflect:i,wrapped:r},o){s&&!(this._$Ej??=new Map).has(e)&&(this._$Ej.set(e,o??t??this[e]),r!==!0||o!==void 0)||(this._$AL.has(e)||(this.hasUpdated||s||(t=void 0),this._$AL.set(e,t)),i===!0&&this._$Em!==e&&(this._$Eq??=new Set).add(e))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(t){Promise.reject(t)}let e=this.scheduleUpdate();return e!=null&&await e,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[i,r]of this._$Ep)this[i]=r;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[i,r]of s){let{wrapped:o}=r,a=this[i];o!==!0||this._$AL.has(i)||a===void 0||this.C(i,void 0,r,a)}}let e=!1,t=this._$AL;try{e=this.shouldUpdate(t),e?(this.willUpdate(t),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(t)):this._$EM()}catch(s){throw e=!1,this._$EM(),s}e&&this._$AE(t)}willUpdate(e){}_$AE(e){this._$EO?.forEach(t=>t.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(e)),this.updated(e)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(e){return!0}update(e){this._$Eq&&=this._$Eq.forEach(t=>this._$ET(t,this[t])),this._$EM()}updated(e){}firstUpdated(e){}};$.elementStyles=[],$.shadowRootOptions={mode:"open"},$[L("elementProperties")]=new Map,$[L("finalized")]=new Map,mt?.({ReactiveElement:$}),(j.reactiveElementVersions??=[]).push("2.1.2");var oe=globalThis,Se=n=>n,W=oe.trustedTypes,Ee=W?W.createPolicy("lit-html",{createHTML:n=>n}):void 0,ae="$lit$",b=`lit$${Math.random().toFixed(9).slice(2)}$`,le="?"+b,_t=`<${le}>`,E=document,N=()=>E.createComment(""),z=n=>n===null||typeof n!="object"&&typeof n!="function",ce=Array.isArray,He=n=>ce(n)||typeof n?.[Symbol.iterator]=="function",re=`[ 	
\f\r]`,M=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,Ce=/-->/g,ke=/>/g,A=RegExp(`>|${re}(?:([^\\s"'>=/]+)(${re}*=${re}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),Re=/'/g,Pe=/"/g,Oe=/^(?:script|style|textarea|title)$/i,de=n=>(e,...t)=>({_$litType$:n,strings:e,values:t}),m=de(1),Nt=de(2),zt=de(3),x=Symbol.for("lit-noChange"),p=Symbol.for("lit-nothing"),Te=new WeakMap,S=E.createTreeWalker(E,129);function Ue(n,e){if(!ce(n)||!n.hasOwnProperty("raw"))throw Error("invalid template strings array");return Ee!==void 0?Ee.createHTML(e):e}var Le=(n,e)=>{let t=n.length-1,s=[],i,r=e===2?"<svg>":e===3?"<math>":"",o=M;for(let a=0;a<t;a++){let l=n[a],d,f,c=-1,u=0;for(;u<l.length&&(o.lastIndex=u,f=o.exec(l),f!==null);)u=o.lastIndex,o===M?f[1]==="!--"?o=Ce:f[1]!==void 0?o=ke:f[2]!==void 0?(Oe.test(f[2])&&(i=RegExp("</"+f[2],"g")),o=A):f[3]!==void 0&&(o=A):o===A?f[0]===">"?(o=i??M,c=-1):f[1]===void 0?c=-2:(c=o.lastIndex-f[2].length,d=f[1],o=f[3]===void 0?A:f[3]==='"'?Pe:Re):o===Pe||o===Re?o=A:o===Ce||o===ke?o=M:(o=A,i=void 0);let h=o===A&&n[a+1].startsWith("/>")?" ":"";r+=o===M?l+_t:c>=0?(s.push(d),l.slice(0,c)+ae+l.slice(c)+b+h):l+b+(c===-2?a:h)}return[Ue(n,r+(n[t]||"<?>")+(e===2?"</svg>":e===3?"</math>":"")),s]},I=class n{constructor({strings:e,_$litType$:t},s){let i;this.parts=[];let r=0,o=0,a=e.length-1,l=this.parts,[d,f]=Le(e,t);if(this.el=n.createElement(d,s),S.currentNode=this.el.content,t===2||t===3){let c=this.el.content.firstChild;c.replaceWith(...c.childNodes)}for(;(i=S.nextNode())!==null&&l.length<a;){if(i.nodeType===1){if(i.hasAttributes())for(let c of i.getAttributeNames())if(c.endsWith(ae)){let u=f[o++],h=i.getAttribute(c).split(b),_=/([.?@])?(.*)/.exec(u);l.push({type:1,index:r,name:_[2],strings:h,ctor:_[1]==="."?q:_[1]==="?"?F:_[1]==="@"?G:k}),i.removeAttribute(c)}else c.startsWith(b)&&(l.push({type:6,index:r}),i.removeAttribute(c));if(Oe.test(i.tagName)){let c=i.textContent.split(b),u=c.length-1;if(u>0){i.textContent=W?W.emptyScript:"";for(let h=0;h<u;h++)i.append(c[h],N()),S.nextNode(),l.push({type:2,index:++r});i.append(c[u],N())}}}else if(i.nodeType===8)if(i.data===le)l.push({type:2,index:r});else{let c=-1;for(;(c=i.data.indexOf(b,c+1))!==-1;)l.push({type:7,index:r}),c+=b.length-1}r++}}static createElement(e,t){let s=E.createElement("template");return s.innerHTML=e,s}};function C(n,e,t=n,s){if(e===x)return e;let i=s!==void 0?t._$Co?.[s]:t._$Cl,r=z(e)?void 0:e._$litDirective$;return i?.constructor!==r&&(i?._$AO?.(!1),r===void 0?i=void 0:(i=new r(n),i._$AT(n,t,s)),s!==void 0?(t._$Co??=[])[s]=i:t._$Cl=i),i!==void 0&&(e=C(n,i._$AS(n,e.values),i,s)),e}var V=class{constructor(e,t){this._$AV=[],this._$AN=void 0,this._$AD=e,this._$AM=t}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(e){let{el:{content:t},parts:s}=this._$AD,i=(e?.creationScope??E).importNode(t,!0);S.currentNode=i;let r=S.nextNode(),o=0,a=0,l=s[0];for(;l!==void 0;){if(o===l.index){let d;l.type===2?d=new P(r,r.nextSibling,this,e):l.type===1?d=new l.ctor(r,l.name,l.strings,this,e):l.type===6&&(d=new Y(r,this,e)),this._$AV.push(d),l=s[++a]}o!==l?.index&&(r=S.nextNode(),o++)}return S.currentNode=E,i}p(e){let t=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(e,s,t),t+=s.strings.length-2):s._$AI(e[t])),t++}},P=class n{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(e,t,s,i){this.type=2,this._$AH=p,this._$AN=void 0,this._$AA=e,this._$AB=t,this._$AM=s,this.options=i,this._$Cv=i?.isConnected??!0}get parentNode(){let e=this._$AA.parentNode,t=this._$AM;return t!==void 0&&e?.nodeType===11&&(e=t.parentNode),e}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(e,t=this){e=C(this,e,t),z(e)?e===p||e==null||e===""?(this._$AH!==p&&this._$AR(),this._$AH=p):e!==this._$AH&&e!==x&&this._(e):e._$litType$!==void 0?this.$(e):e.nodeType!==void 0?this.T(e):He(e)?this.k(e):this._(e)}O(e){return this._$AA.parentNode.insertBefore(e,this._$AB)}T(e){this._$AH!==e&&(this._$AR(),this._$AH=this.O(e))}_(e){this._$AH!==p&&z(this._$AH)?this._$AA.nextSibling.data=e:this.T(E.createTextNode(e)),this._$AH=e}$(e){let{values:t,_$litType$:s}=e,i=typeof s=="number"?this._$AC(e):(s.el===void 0&&(s.el=I.createElement(Ue(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===i)this._$AH.p(t);else{let r=new V(i,this),o=r.u(this.options);r.p(t),this.T(o),this._$AH=r}}_$AC(e){let t=Te.get(e.strings);return t===void 0&&Te.set(e.strings,t=new I(e)),t}k(e){ce(this._$AH)||(this._$AH=[],this._$AR());let t=this._$AH,s,i=0;for(let r of e)i===t.length?t.push(s=new n(this.O(N()),this.O(N()),this,this.options)):s=t[i],s._$AI(r),i++;i<t.length&&(this._$AR(s&&s._$AB.nextSibling,i),t.length=i)}_$AR(e=this._$AA.nextSibling,t){for(this._$AP?.(!1,!0,t);e!==this._$AB;){let s=Se(e).nextSibling;Se(e).remove(),e=s}}setConnected(e){this._$AM===void 0&&(this._$Cv=e,this._$AP?.(e))}},k=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(e,t,s,i,r){this.type=1,this._$AH=p,this._$AN=void 0,this.element=e,this.name=t,this._$AM=i,this.options=r,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=p}_$AI(e,t=this,s,i){let r=this.strings,o=!1;if(r===void 0)e=C(this,e,t,0),o=!z(e)||e!==this._$AH&&e!==x,o&&(this._$AH=e);else{let a=e,l,d;for(e=r[0],l=0;l<r.length-1;l++)d=C(this,a[s+l],t,l),d===x&&(d=this._$AH[l]),o||=!z(d)||d!==this._$AH[l],d===p?e=p:e!==p&&(e+=(d??"")+r[l+1]),this._$AH[l]=d}o&&!i&&this.j(e)}j(e){e===p?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,e??"")}},q=class extends k{constructor(){super(...arguments),this.type=3}j(e){this.element[this.name]=e===p?void 0:e}},F=class extends k{constructor(){super(...arguments),this.type=4}j(e){this.element.toggleAttribute(this.name,!!e&&e!==p)}},G=class extends k{constructor(e,t,s,i,r){super(e,t,s,i,r),this.type=5}_$AI(e,t=this){if((e=C(this,e,t,0)??p)===x)return;let s=this._$AH,i=e===p&&s!==p||e.capture!==s.capture||e.once!==s.once||e.passive!==s.passive,r=e!==p&&(s===p||i);i&&this.element.removeEventListener(this.name,this,s),r&&this.element.addEventListener(this.name,this,e),this._$AH=e}handleEvent(e){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,e):this._$AH.handleEvent(e)}},Y=class{constructor(e,t,s){this.element=e,this.type=6,this._$AN=void 0,this._$AM=t,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(e){C(this,e)}},Me={M:ae,P:b,A:le,C:1,L:Le,R:V,D:He,V:C,I:P,H:k,N:F,U:G,B:q,F:Y},gt=oe.litHtmlPolyfillSupport;gt?.(I,P),(oe.litHtmlVersions??=[]).push("3.3.3");var Ne=(n,e,t)=>{let s=t?.renderBefore??e,i=s._$litPart$;if(i===void 0){let r=t?.renderBefore??null;s._$litPart$=i=new P(e.insertBefore(N(),r),r,void 0,t??{})}return i._$AI(n),i};var pe=globalThis,v=class extends ${constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let e=super.createRenderRoot();return this.renderOptions.renderBefore??=e.firstChild,e}update(e){let t=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(e),this._$Do=Ne(t,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return x}};v._$litElement$=!0,v.finalized=!0,pe.litElementHydrateSupport?.({LitElement:v});var vt=pe.litElementPolyfillSupport;vt?.({LitElement:v});(pe.litElementVersions??=[]).push("4.2.2");var ze={ATTRIBUTE:1,CHILD:2,PROPERTY:3,BOOLEAN_ATTRIBUTE:4,EVENT:5,ELEMENT:6},Ie=n=>(...e)=>({_$litDirective$:n,values:e}),Z=class{constructor(e){}get _$AU(){return this._$AM._$AU}_$AT(e,t,s){this._$Ct=e,this._$AM=t,this._$Ci=s}_$AS(e,t){return this.update(e,t)}update(e,t){return this.render(...t)}};var{I:yt}=Me,De=n=>n;var Be=()=>document.createComment(""),T=(n,e,t)=>{let s=n._$AA.parentNode,i=e===void 0?n._$AB:e._$AA;if(t===void 0){let r=s.insertBefore(Be(),i),o=s.insertBefore(Be(),i);t=new yt(r,o,n,n.options)}else{let r=t._$AB.nextSibling,o=t._$AM,a=o!==n;if(a){let l;t._$AQ?.(n),t._$AM=n,t._$AP!==void 0&&(l=n._$AU)!==o._$AU&&t._$AP(l)}if(r!==i||a){let l=t._$AA;for(;l!==r;){let d=De(l).nextSibling;De(s).insertBefore(l,i),l=d}}}return t},w=(n,e,t=n)=>(n._$AI(e,t),n),$t={},Ke=(n,e=$t)=>n._$AH=e,je=n=>n._$AH,J=n=>{n._$AR(),n._$AA.remove()};var We=(n,e,t)=>{let s=new Map;for(let i=e;i<=t;i++)s.set(n[i],i);return s},Ve=Ie(class extends Z{constructor(n){if(super(n),n.type!==ze.CHILD)throw Error("repeat() can only be used in text expressions")}dt(n,e,t){let s;t===void 0?t=e:e!==void 0&&(s=e);let i=[],r=[],o=0;for(let a of n)i[o]=s?s(a,o):o,r[o]=t(a,o),o++;return{values:r,keys:i}}render(n,e,t){return this.dt(n,e,t).values}update(n,[e,t,s]){let i=je(n),{values:r,keys:o}=this.dt(e,t,s);if(!Array.isArray(i))return this.ut=o,r;let a=this.ut??=[],l=[],d,f,c=0,u=i.length-1,h=0,_=r.length-1;for(;c<=u&&h<=_;)if(i[c]===null)c++;else if(i[u]===null)u--;else if(a[c]===o[h])l[h]=w(i[c],r[h]),c++,h++;else if(a[u]===o[_])l[_]=w(i[u],r[_]),u--,_--;else if(a[c]===o[_])l[_]=w(i[c],r[_]),T(n,l[_+1],i[c]),c++,_--;else if(a[u]===o[h])l[h]=w(i[u],r[h]),T(n,i[c],i[u]),u--,h++;else if(d===void 0&&(d=We(o,h,_),f=We(a,c,u)),d.has(a[c]))if(d.has(a[u])){let y=f.get(o[h]),ee=y!==void 0?i[y]:null;if(ee===null){let ve=T(n,i[c]);w(ve,r[h]),l[h]=ve}else l[h]=w(ee,r[h]),T(n,i[c],ee),i[y]=null;h++}else J(i[u]),u--;else J(i[c]),c++;for(;h<=_;){let y=T(n,l[_+1]);w(y,r[h]),l[h++]=y}for(;c<=u;){let y=i[c++];y!==null&&J(y)}return this.ut=o,Ke(n,l),x}});var Fe=["online","country_code","cpu","memory_usage","disk_usage","swap_usage","network_in_speed","network_out_speed","network_in_traffic","network_out_traffic","load_1","last_boot","expires"],bt=new Set(Fe),xt=new Set(Fe.filter(n=>n!=="expires")),Q=["name","cpu","traffic","expiry"],he=48;function Ge(n){if(!n||typeof n!="object")throw new Error("Invalid configuration");let e=n.sort??"name";if(!Q.includes(e))throw new Error(`Unknown sort "${String(e)}": one of ${Q.join(", ")}`);let t=n.page_size??he;if(!Number.isInteger(t)||t<1)throw new Error("page_size must be a whole number of at least 1");return{type:n.type,entry:n.entry||void 0,sort:e,offline_last:n.offline_last??!0,label:n.label||void 0,area:n.area||void 0,compact:n.compact??!1,page_size:t}}function Ye(n,e){let t=new Map;for(let i of Object.values(n.entities)){if(!i||i.platform!=="nezha"||!i.device_id||!i.translation_key||!bt.has(i.translation_key))continue;let r=t.get(i.device_id);r||(r={},t.set(i.device_id,r)),r[i.translation_key]=i.entity_id}let s=[];for(let[i,r]of t){let o=n.devices[i];!o||!o.config_entries.includes(e)||Object.keys(r).some(a=>xt.has(a))&&s.push({deviceId:i,name:o.name_by_user||o.name||i,areaId:o.area_id??null,labels:o.labels??[],entities:r})}return s}function Ze(n){let e=new Set;for(let t of Object.values(n.entities))if(!(t?.platform!=="nezha"||t.translation_key!=="online"||!t.device_id))for(let s of n.devices[t.device_id]?.config_entries??[])e.add(s);return[...e].sort()}var wt=new Set(["unavailable","unknown",""]);function R(n,e,t){let s=e.entities[t],i=s?n.states[s]:void 0;return i&&!wt.has(i.state)?i:void 0}function ue(n,e,t){let s=R(n,e,t);if(!s)return null;let i=Number(s.state);return Number.isFinite(i)?i:null}function H(n,e){let t=R(n,e,"online");return t?t.state==="on":null}var At={B:1,kB:1e3,KB:1e3,MB:1e6,GB:1e9,TB:1e12,PB:1e15,KiB:1024,MiB:1024**2,GiB:1024**3,TiB:1024**4,PiB:1024**5};function qe(n,e,t){let s=R(n,e,t),i=s?Number(s.state):NaN;if(!s||!Number.isFinite(i))return null;let r=At[String(s.attributes.unit_of_measurement??"B")];return r===void 0?null:i*r}function St(n,e){let t=qe(n,e,"network_in_traffic"),s=qe(n,e,"network_out_traffic");return t===null&&s===null?null:(t??0)+(s??0)}function fe(n,e,t){let s=R(n,e,t),i=s?Date.parse(s.state):NaN;return Number.isFinite(i)?i:null}function Je(n,e){return n.filter(t=>(!e.label||t.labels.includes(e.label))&&(!e.area||t.areaId===e.area))}var Et=new Intl.Collator(void 0,{numeric:!0,sensitivity:"base"});function Qe(n,e,t,s){let i=o=>{switch(t){case"cpu":return ue(n,o,"cpu");case"traffic":return St(n,o);case"expiry":{let a=fe(n,o,"expires");return a===null?null:-a}default:return null}},r=e.map(o=>({server:o,offline:s&&H(n,o)!==!0,value:i(o)}));return r.sort((o,a)=>o.offline!==a.offline?o.offline?1:-1:o.value!==a.value?o.value===null?1:a.value===null?-1:a.value-o.value:Et.compare(o.server.name,a.server.name)||o.server.deviceId.localeCompare(a.server.deviceId)),r.map(o=>o.server)}function Xe(n,e,t){let s=Math.max(1,Math.ceil(n.length/t)),i=Math.min(Math.max(0,e),s-1);return{items:n.slice(i*t,(i+1)*t),page:i,pages:s}}function et(n){return n>=90?"critical":n>=70?"warning":"normal"}function me(n){let e=(n??"").trim().toUpperCase();return/^[A-Z]{2}$/.test(e)?String.fromCodePoint(...[...e].map(t=>127397+t.charCodeAt(0))):""}function tt(n){return n.flatMap(e=>Object.values(e.entities))}function st(n,e,t){let s=t.size!==e.length;s&&t.clear();for(let i of e){let r=n.states[i];(t.get(i)!==r||r===void 0&&!t.has(i))&&(t.set(i,r),s=!0)}return s}var Ct={name:"Nezha fleet",description:"Every server of a Nezha dashboard at a glance: online state, CPU, memory, disk, network, traffic and uptime.",choose_entry:"Choose a Nezha dashboard in the card's settings.",no_servers:"No server of this dashboard matches.",online:"Online",offline:"Offline",unknown:"Not reported",cpu:"CPU",memory:"Memory",disk:"Disk",swap:"Swap",network:"Network",download:"Download",upload:"Upload",traffic:"Traffic",uptime:"Uptime",load:"Load",expires:"Expires",servers_online:"{online} of {total} online",page:"Page {page} of {pages}",previous:"Previous page",next:"Next page",open_device:"Open the device page of {name}",open_value:"{label} of {name}: {value}. Open its history",entry:"Nezha dashboard",sort:"Sort by",sort_name:"Name",sort_cpu:"CPU usage",sort_traffic:"Traffic",sort_expiry:"Expiry",offline_last:"Offline servers last",label:"Only servers with this label",area:"Only servers in this area",compact:"Compact (for phones)",page_size:"Servers per page",days:"{n} d",hours:"{n} h",minutes:"{n} min"},kt={name:"哪吒服务器总览",description:"一眼看全哪吒面板的每台服务器：在线状态、CPU、内存、硬盘、网络、流量和运行时间。",choose_entry:"请在卡片设置中选择一个哪吒监控面板。",no_servers:"此面板没有符合条件的服务器。",online:"在线",offline:"离线",unknown:"未上报",cpu:"CPU",memory:"内存",disk:"硬盘",swap:"交换",network:"网络",download:"下载",upload:"上传",traffic:"流量",uptime:"运行时间",load:"负载",expires:"到期",servers_online:"{online}/{total} 台在线",page:"第 {page}/{pages} 页",previous:"上一页",next:"下一页",open_device:"打开 {name} 的设备页",open_value:"{name} 的{label}：{value}。打开历史记录",entry:"哪吒监控面板",sort:"排序",sort_name:"名称",sort_cpu:"CPU 使用率",sort_traffic:"流量",sort_expiry:"到期时间",offline_last:"离线服务器排在最后",label:"只显示带此标签的服务器",area:"只显示此区域的服务器",compact:"紧凑（适合手机）",page_size:"每页服务器数",days:"{n} 天",hours:"{n} 小时",minutes:"{n} 分钟"},Rt={en:Ct,"zh-Hans":kt};function Pt(n){let e=(n??"en").toLowerCase();return e.startsWith("zh")&&!e.startsWith("zh-hant")?"zh-Hans":"en"}function g(n,e,t={}){return Rt[Pt(n)][e].replace(/\{(\w+)\}/g,(i,r)=>r in t?String(t[r]):i)}function it(n,e,t){let s=Math.max(0,Math.floor((t-e)/6e4)),i=Math.floor(s/1440),r=Math.floor(s%1440/60),o=[];return i&&o.push(g(n,"days",{n:i})),(i||r)&&o.push(g(n,"hours",{n:r})),i||o.push(g(n,"minutes",{n:s%60})),o.join(" ")}var Tt={name:"sort_name",cpu:"sort_cpu",traffic:"sort_traffic",expiry:"sort_expiry"};function nt(n){return[{name:"entry",required:!0,selector:{config_entry:{integration:"nezha"}}},{name:"sort",selector:{select:{mode:"dropdown",options:Q.map(e=>({value:e,label:g(n,Tt[e]??"sort_name")}))}}},{name:"offline_last",selector:{boolean:{}}},{name:"compact",selector:{boolean:{}}},{name:"label",selector:{label:{}}},{name:"area",selector:{area:{}}},{name:"page_size",selector:{number:{min:1,max:500,mode:"box"}}}]}function rt(n){return{sort:"name",offline_last:!0,compact:!1,page_size:he,...n}}function ot(n){let e={};for(let[t,s]of Object.entries(n))s!=null&&s!==""&&(e[t]=s);return e}var _e=class extends v{constructor(){super(...arguments);this._label=t=>g(this._language,t.name)}set hass(t){this._hass=t,this.requestUpdate()}setConfig(t){this._config=t,this.requestUpdate()}get _language(){return this._hass?.locale?.language??this._hass?.language}_changed(t){t.stopPropagation();let s=ot(t.detail.value);this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:s},bubbles:!0,composed:!0}))}render(){return!this._hass||!this._config?p:m`<ha-form
      .hass=${this._hass}
      .data=${rt(this._config)}
      .schema=${nt(this._language)}
      .computeLabel=${this._label}
      @value-changed=${this._changed}
    ></ha-form>`}};customElements.get("nezha-fleet-card-editor")||customElements.define("nezha-fleet-card-editor",_e);var O="nezha-fleet-card",at=[{key:"cpu",label:"cpu"},{key:"memory_usage",label:"memory"},{key:"disk_usage",label:"disk"}],D;function Ht(){if(D===void 0){let n=document.createElement("canvas").getContext("2d",{willReadFrequently:!0});if(D=!1,n){n.canvas.width=n.canvas.height=20,n.font="16px sans-serif",n.textBaseline="top",n.fillText(me("de"),0,0);let e=n.getImageData(0,0,20,20).data;for(let t=0;t<e.length&&!D;t+=4)D=e[t]!==e[t+1]||e[t+1]!==e[t+2]}}return D}var X=class extends v{constructor(){super(...arguments);this._servers=[];this._watched=[];this._seen=new Map;this._registries=[];this._page=0;this._visible=!0;this._dirty=!1;this._renderStart=0;this.stats={renders:0,first_ms:null,last_ms:null,servers:0,shown:0};this._onVisibility=()=>{this._visible&&!document.hidden&&this._dirty&&(this._dirty=!1,this._refresh(!1))}}static getConfigElement(){return document.createElement(`${O}-editor`)}static getStubConfig(t){let[s]=Ze(t);return{type:`custom:${O}`,...s?{entry:s}:{}}}setConfig(t){this._config=Ge(t),this._registries=[],this._page=0,this._refresh(!0)}set hass(t){if(this._hass=t,!this._visible||document.hidden){this._dirty=!0;return}this._refresh(!1)}get hass(){return this._hass}getCardSize(){return this._config?.compact?2+Math.min(this.stats.shown,12):3+3*Math.ceil(this.stats.shown/3)}getGridOptions(){return{columns:"full",min_columns:6,min_rows:2}}connectedCallback(){super.connectedCallback(),document.addEventListener("visibilitychange",this._onVisibility),typeof IntersectionObserver<"u"&&(this._observer=new IntersectionObserver(t=>{this._visible=t.some(s=>s.isIntersecting),this._onVisibility()}),this._observer.observe(this))}disconnectedCallback(){super.disconnectedCallback(),document.removeEventListener("visibilitychange",this._onVisibility),this._observer?.disconnect(),this._observer=void 0,this._visible=!1,this._dirty=!0}_refresh(t){let s=this._hass,i=this._config;if(!s||!i)return;let r=[s.entities,s.devices,s.locale,s.formatEntityState],o=r.some((a,l)=>a!==this._registries[l]);if(o){this._registries=r;let a=i.entry?Ye(s,i.entry):[];this._servers=Je(a,i),this._watched=tt(this._servers)}(st(s,this._watched,this._seen)||o||t)&&this.requestUpdate()}willUpdate(t){this._renderStart=performance.now()}updated(t){let s=performance.now()-this._renderStart;this.stats.renders+=1,this.stats.first_ms??=s,this.stats.last_ms=s,this.dataset.renderMs=s.toFixed(2)}_t(t,s){return g(this._hass?.locale?.language??this._hass?.language,t,s)}_format(t){if(this._hass?.formatEntityState)return this._hass.formatEntityState(t);let s=t.attributes.unit_of_measurement;return s?`${t.state} ${String(s)}`:t.state}_moreInfo(t){this.dispatchEvent(new CustomEvent("hass-more-info",{detail:{entityId:t},bubbles:!0,composed:!0}))}_openDevice(t){history.pushState(null,"",`/config/devices/device/${t}`),window.dispatchEvent(new CustomEvent("location-changed",{detail:{replace:!1}}))}_goto(t){this._page=t,this.requestUpdate()}render(){let t=this._hass,s=this._config;if(!t||!s)return p;if(!s.entry)return m`<ha-card><div class="message">${this._t("choose_entry")}</div></ha-card>`;let i=Qe(t,this._servers,s.sort,s.offline_last),r=Xe(i,this._page,s.page_size);this._page=r.page;let o=this._servers.filter(a=>H(t,a)===!0).length;return this.stats.servers=i.length,this.stats.shown=r.items.length,m`
      <ha-card>
        <div class="header">
          <span class="title">${this._t("name")}</span>
          <span class="summary">${this._t("servers_online",{online:o,total:i.length})}</span>
        </div>
        ${i.length===0?m`<div class="message">${this._t("no_servers")}</div>`:m`<div class=${s.compact?"list compact":"list grid"} role="list">
              ${Ve(r.items,a=>a.deviceId,a=>s.compact?this._row(t,a):this._tile(t,a))}
            </div>`}
        ${r.pages>1?this._pager(r.page,r.pages):p}
      </ha-card>
    `}_pager(t,s){return m`<nav class="pager">
      <button
        class="page"
        ?disabled=${t===0}
        aria-label=${this._t("previous")}
        @click=${()=>this._goto(t-1)}
      >
        ‹
      </button>
      <span>${this._t("page",{page:t+1,pages:s})}</span>
      <button
        class="page"
        ?disabled=${t>=s-1}
        aria-label=${this._t("next")}
        @click=${()=>this._goto(t+1)}
      >
        ›
      </button>
    </nav>`}_name(t,s){let i=H(t,s),r=this._t(i===null?"unknown":i?"online":"offline"),o=R(t,s,"country_code")?.state??"",a=me(o);return m`<button
      class="name"
      aria-label=${`${this._t("open_device",{name:s.name})} (${r})`}
      @click=${()=>this._openDevice(s.deviceId)}
    >
      <span class=${`dot ${i===null?"unknown":i?"on":"off"}`} title=${r}></span>
      ${a?Ht()?m`<span class="flag" title=${o}>${a}</span>`:m`<span class="flag code" title=${o}>${o.toUpperCase()}</span>`:p}
      <span class="text">${s.name}</span>
    </button>`}_value(t,s,i,r,o,a="value"){let l=s.entities[i];if(!l)return p;let d=R(t,s,i),f=d?this._format(d):"—",c=a.includes("bar-row");return m`<button
      class=${a}
      data-key=${i}
      data-entity=${l}
      aria-label=${this._t("open_value",{label:this._t(r),name:s.name,value:f})}
      @click=${()=>this._moreInfo(l)}
    >
      ${d||c?o(d,f):f}
    </button>`}_bar(t,s,i,r){let o=ue(t,s,i);return this._value(t,s,i,r,(a,l)=>m`<span class="bar-label">${this._t(r)}</span>
        <span class="bar" role="presentation">
          ${o===null?p:m`<span
                class=${`fill ${et(o)}`}
                style=${`width:${Math.min(100,Math.max(0,o))}%`}
              ></span>`}
        </span>
        <span class="bar-value">${l}</span>`,"value bar-row")}_uptime(t,s){let i=fe(t,s,"last_boot"),r=t.locale?.language??t.language;return this._value(t,s,"last_boot","uptime",()=>i===null?"—":it(r,i,Date.now()))}_tile(t,s){let i=H(t,s),r=(o,a)=>a;return m`<div
      class=${`tile ${i===!1?"offline":""}`}
      role="listitem"
      data-device=${s.deviceId}
    >
      ${this._name(t,s)}
      <div class="bars">${at.map(({key:o,label:a})=>this._bar(t,s,o,a))}</div>
      <dl class="facts">
        ${this._fact(s,["network_in_speed","network_out_speed"],"network",m`↓ ${this._value(t,s,"network_in_speed","download",r)} ↑ ${this._value(t,s,"network_out_speed","upload",r)}`)}
        ${this._fact(s,["network_in_traffic","network_out_traffic"],"traffic",m`↓ ${this._value(t,s,"network_in_traffic","traffic",r)} ↑ ${this._value(t,s,"network_out_traffic","traffic",r)}`)}
        ${this._fact(s,["last_boot"],"uptime",this._uptime(t,s))}
        ${this._fact(s,["load_1"],"load",this._value(t,s,"load_1","load",r))}
        ${this._fact(s,["expires"],"expires",this._value(t,s,"expires","expires",r))}
      </dl>
    </div>`}_fact(t,s,i,r){return s.some(o=>t.entities[o])?m`<div class="fact"><dt>${this._t(i)}</dt><dd>${r}</dd></div>`:p}_row(t,s){let i=H(t,s),r=(o,a)=>a;return m`<div
      class=${`row ${i===!1?"offline":""}`}
      role="listitem"
      data-device=${s.deviceId}
    >
      ${this._name(t,s)}
      <div class="mini-bars">${at.map(({key:o,label:a})=>this._bar(t,s,o,a))}</div>
      <div class="speeds">
        ${s.entities.network_in_speed?m`↓ ${this._value(t,s,"network_in_speed","download",r)}`:p}
        ${s.entities.network_out_speed?m`↑ ${this._value(t,s,"network_out_speed","upload",r)}`:p}
      </div>
    </div>`}};X.styles=se`
    :host {
      --nezha-normal: var(--success-color, #43a047);
      --nezha-warning: var(--warning-color, #ffa600);
      --nezha-critical: var(--error-color, #db4437);
    }
    ha-card {
      padding: 12px;
      box-sizing: border-box;
    }
    .header {
      display: flex;
      align-items: baseline;
      justify-content: space-between;
      gap: 8px;
      padding: 0 4px 8px;
    }
    .title {
      font-size: var(--ha-font-size-l, 1.25rem);
      font-weight: 500;
      color: var(--primary-text-color);
    }
    .summary,
    .message {
      color: var(--secondary-text-color);
    }
    .message {
      padding: 8px 4px;
    }
    button {
      font: inherit;
      color: inherit;
      background: none;
      border: none;
      padding: 0;
      margin: 0;
      cursor: pointer;
      text-align: inherit;
      border-radius: 4px;
    }
    button:focus-visible {
      outline: 2px solid var(--primary-color);
      outline-offset: 1px;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
      gap: 8px;
    }
    .tile {
      border: 1px solid var(--divider-color);
      border-radius: var(--ha-card-border-radius, 12px);
      padding: 10px 12px;
      display: flex;
      flex-direction: column;
      gap: 8px;
      min-width: 0;
    }
    .offline {
      opacity: 0.6;
    }
    /* Greyed, but the red dot still says why. */
    .offline .bars,
    .offline .mini-bars,
    .offline .facts,
    .offline .speeds {
      filter: grayscale(1);
    }
    .name {
      display: flex;
      align-items: center;
      gap: 6px;
      font-weight: 500;
      color: var(--primary-text-color);
      min-width: 0;
    }
    .name .text {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .dot {
      flex: none;
      width: 9px;
      height: 9px;
      border-radius: 50%;
      background: var(--disabled-text-color, #bdbdbd);
    }
    .dot.on {
      background: var(--nezha-normal);
    }
    .dot.off {
      background: var(--nezha-critical);
    }
    .flag {
      flex: none;
    }
    /* Where the browser has no flag emoji: the country's code. */
    .flag.code {
      font-size: 0.7em;
      font-weight: 500;
      line-height: 1;
      padding: 2px 3px;
      border-radius: 3px;
      border: 1px solid var(--divider-color);
      color: var(--secondary-text-color);
    }
    .bars,
    .mini-bars {
      display: flex;
      flex-direction: column;
      gap: 4px;
    }
    .bar-row {
      display: grid;
      grid-template-columns: 4.5em 1fr 4.5em;
      align-items: center;
      gap: 6px;
      font-size: 0.85em;
      color: var(--secondary-text-color);
    }
    .bar-value {
      text-align: end;
      color: var(--primary-text-color);
      white-space: nowrap;
    }
    .bar {
      height: 6px;
      border-radius: 3px;
      background: var(--divider-color);
      overflow: hidden;
    }
    .fill {
      display: block;
      height: 100%;
      border-radius: 3px;
      transition: width 0.4s ease;
    }
    .fill.normal {
      background: var(--nezha-normal);
    }
    .fill.warning {
      background: var(--nezha-warning);
    }
    .fill.critical {
      background: var(--nezha-critical);
    }
    .facts {
      margin: 0;
      display: flex;
      flex-direction: column;
      gap: 2px;
      font-size: 0.85em;
    }
    .fact {
      display: flex;
      justify-content: space-between;
      gap: 8px;
    }
    dt {
      color: var(--secondary-text-color);
      white-space: nowrap;
    }
    dd {
      margin: 0;
      text-align: end;
      color: var(--primary-text-color);
    }
    .list.compact {
      display: flex;
      flex-direction: column;
    }
    .row {
      display: grid;
      grid-template-columns: minmax(0, 1.2fr) minmax(0, 1.6fr);
      grid-template-areas: "name bars" "speeds bars";
      gap: 2px 10px;
      padding: 6px 4px;
      border-bottom: 1px solid var(--divider-color);
      font-size: 0.9em;
    }
    .row:last-child {
      border-bottom: none;
    }
    .row .name {
      grid-area: name;
    }
    .row .mini-bars {
      grid-area: bars;
      gap: 1px;
    }
    .row .mini-bars .bar-row {
      grid-template-columns: 3.5em 1fr 3.8em;
      font-size: 0.8em;
    }
    .row .speeds {
      grid-area: speeds;
      font-size: 0.8em;
      color: var(--secondary-text-color);
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .pager {
      display: flex;
      justify-content: center;
      align-items: center;
      gap: 12px;
      padding-top: 10px;
      color: var(--secondary-text-color);
    }
    .page {
      font-size: 1.4em;
      line-height: 1;
      width: 36px;
      height: 36px;
      text-align: center;
      color: var(--primary-color);
    }
    .page:disabled {
      color: var(--disabled-text-color);
      cursor: default;
    }
  `;customElements.get(O)||customElements.define(O,X);var ge=window;ge.customCards??=[];if(!ge.customCards.some(n=>n.type===O)){let n=document.documentElement.lang||navigator.language;ge.customCards.push({type:O,name:g(n,"name"),description:g(n,"description"),preview:!0,documentationURL:"https://github.com/nezha-ha/ha-nezha#the-fleet-card"})}export{O as CARD_TYPE,X as NezhaFleetCard};
/*! Bundled license information:

@lit/reactive-element/css-tag.js:
  (**
   * @license
   * Copyright 2019 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

@lit/reactive-element/reactive-element.js:
lit-html/lit-html.js:
lit-element/lit-element.js:
lit-html/directive.js:
lit-html/directives/repeat.js:
  (**
   * @license
   * Copyright 2017 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

lit-html/is-server.js:
  (**
   * @license
   * Copyright 2022 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)

lit-html/directive-helpers.js:
  (**
   * @license
   * Copyright 2020 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/
